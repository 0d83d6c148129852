#!/usr/bin/python3
"""The contact tracers' console in a real browser (headless Chromium through chromedriver).

Starts the real bluetrace-server with the console on 127.0.0.1 (ports picked by the
server) and upload.require_code on, makes a staff account with bluetrace-admin, then in the
browser: logs in, issues an upload code for a user who tested positive on the code page and
reads it off the page; the real bluetrace-client uploads the original's sample contact log
with that code (it answers the client's `Upload code: ` prompt); back in the browser: finds
the contact on the contacts page, marks it reached with a note, downloads the CSV and checks
it, views the report, activity (the code counted) and staff pages, and logs out (the old
cookie then fails). A screenshot of each page goes to the output directory (--out); --docs
DIR also copies the set there (the code in them is a throwaway test code).

Bounded in time (--timeout, default 180 s); stops only the processes it started; fails,
never skips, when Chromium, chromedriver or selenium is missing.
"""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


# For a failure's evidence: the browser and the output directory, once they exist.
DRIVER = None
OUT = None


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    if DRIVER is not None and OUT is not None:
        print("at " + DRIVER.current_url, file=sys.stderr)
        with open(os.path.join(OUT, "failure.html"), "w", encoding="utf-8") as f:
            f.write(DRIVER.page_source)
        DRIVER.save_screenshot(os.path.join(OUT, "failure.png"))
        print("page source and screenshot in " + OUT, file=sys.stderr)
    sys.exit(1)


def wait_for(predicate, what, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    fail("timed out waiting for " + what)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="directory of the built programs")
    parser.add_argument("--source", required=True, help="the source tree")
    parser.add_argument("--out", required=True, help="output directory (screenshots, logs)")
    parser.add_argument("--docs", help="also copy the screenshots here")
    parser.add_argument("--timeout", type=int, default=180)
    args = parser.parse_args()

    # The whole test is bounded: SIGALRM ends it (the finally blocks stop what it started).
    def on_alarm(signum, frame):
        raise TimeoutError("the browser test ran over %d s" % args.timeout)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.timeout)

    for path in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not os.access(path, os.X_OK):
            fail(path + " is missing: apt-get install chromium chromium-driver python3-selenium "
                 "(scripts/install-deps.sh)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select
    except ImportError as e:
        fail("python3-selenium is missing (%s): run this with /usr/bin/python3" % e)

    global DRIVER, OUT
    os.makedirs(args.out, exist_ok=True)
    OUT = args.out
    shots = os.path.join(args.out, "screenshots")
    shutil.rmtree(shots, ignore_errors=True)
    os.makedirs(shots)
    work = tempfile.mkdtemp(prefix="console-browser-", dir=args.out)
    state = os.path.join(work, "state")
    os.mkdir(state, 0o700)
    data = os.path.join(args.source, "tests", "data", "original")
    for name in ("credentials.txt", "tempIDs.txt"):
        shutil.copy(os.path.join(data, name), state)
    config = os.path.join(work, "server.toml")
    with open(config, "w") as f:
        f.write('[server]\nbind_address = "127.0.0.1"\nport = 0\nstate_dir = "%s"\n'
                "console_output = false\n"
                "[auth]\nargon2_memory_kib = 4096\nargon2_iterations = 1\n"
                "[upload]\nrequire_code = true\n"
                '[console]\nenabled = true\naddress = "127.0.0.1"\nport = 0\n' % state)
    staff_password = os.path.join(work, "staff-password")
    with open(staff_password, "w") as f:
        f.write("correct horse battery staple\n")

    admin = subprocess.run(
        [os.path.join(args.bin, "bluetrace-admin"), "--config", config, "staff", "add",
         "ana.tracer", "--role", "admin", "--password-file", staff_password],
        capture_output=True, text=True, timeout=60)
    if admin.returncode != 0:
        fail("bluetrace-admin staff add: " + admin.stderr)

    server_err = open(os.path.join(work, "server.log"), "w")
    ready = os.path.join(work, "ready")
    server = subprocess.Popen(
        [os.path.join(args.bin, "bluetrace-server"), "--config", config, "--ready-file", ready],
        stdout=subprocess.DEVNULL, stderr=server_err)
    driver = None
    try:
        port = int(wait_for(lambda: os.path.exists(ready) and open(ready).read().strip(),
                            "the server's ready file"))
        log_path = os.path.join(work, "server.log")
        console_port = int(wait_for(
            lambda: (re.findall(r"console on https://127\.0\.0\.1:(\d+)/", open(log_path).read())
                     or [None])[0], "the console's port in the server's log"))
        base = "https://127.0.0.1:%d" % console_port

        downloads = os.path.join(work, "downloads")
        os.mkdir(downloads)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1280,900"):
            options.add_argument(a)
        options.accept_insecure_certs = True  # the server's self-signed certificate
        options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                                  "download.prompt_for_download": False})
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        DRIVER = driver
        driver.set_page_load_timeout(30)
        driver.execute_cdp_cmd("Page.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": downloads})

        def shot(name):
            driver.save_screenshot(os.path.join(shots, name + ".png"))

        driver.get(base + "/contacts")
        if not driver.current_url.endswith("/login"):
            fail("not sent to the login page: " + driver.current_url)
        driver.find_element(By.NAME, "name").send_keys("ana.tracer")
        driver.find_element(By.NAME, "password").send_keys("correct horse battery staple")
        shot("1-login")
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait_for(lambda: driver.current_url.endswith("/contacts"), "the contacts page")
        session = driver.get_cookie("bt_session")
        if not session or not session.get("secure") or not session.get("httpOnly") \
                or session.get("sameSite") != "Strict":
            fail("the session cookie is not Secure, HttpOnly, SameSite=Strict: %r" % session)

        # A tracer has called bob, who tested positive: a code for his upload.
        driver.find_element(By.LINK_TEXT, "Upload codes").click()
        wait_for(lambda: driver.current_url.endswith("/codes"), "the upload code page")
        driver.find_element(By.NAME, "phone").send_keys("+61 410 777 777")
        shot("2-upload-code")
        driver.find_element(By.CSS_SELECTOR, "main form button").click()
        code = wait_for(lambda: driver.find_elements(By.ID, "upload-code"),
                        "the issued code")[0].text.strip()
        if not re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code):
            fail("no upload code on the page: %r" % code)
        if "+61410777777" not in driver.page_source or code in driver.current_url:
            fail("the code page does not name the phone number, or the code is in the URL")
        shot("3-upload-code-issued")

        # The user who tested positive (bob, +61410777777) uploads the original's sample
        # contact log with the code, typed at the client's `Upload code: ` prompt.
        client_dir = os.path.join(work, "bob")
        os.mkdir(client_dir, 0o700)
        shutil.copy(os.path.join(data, "contactlog.txt"), client_dir)
        client_config = os.path.join(work, "client.toml")
        with open(client_config, "w") as f:
            f.write("[contact_log]\nretention = 315360000\n")  # keep the 2020 sample
        bob_password = os.path.join(work, "bob-password")
        with open(bob_password, "w") as f:
            f.write("datha457\n")
        client = subprocess.run(
            [os.path.join(args.bin, "bluetrace-client"), "127.0.0.1", str(port), "0",
             "--ca-file", os.path.join(state, "server.crt"), "--config", client_config,
             "--data-dir", client_dir, "--user", "+61410777777", "--password-file",
             bob_password],
            input="Upload_contact_log\n" + code + "\nlogout\n", capture_output=True, text=True,
            timeout=60)
        if "Upload code: " not in client.stdout or \
                "received by the server" not in client.stdout:
            fail("the upload with the code did not go through:\n" + client.stdout +
                 client.stderr)

        driver.find_element(By.LINK_TEXT, "Contacts to call").click()
        wait_for(lambda: driver.current_url.endswith("/contacts"), "the contacts page")
        page = driver.page_source
        for contact in ("+61410999999", "+61410888888"):
            if contact not in page:
                fail("contact %s is not on the contacts page" % contact)
        shot("4-contacts")

        row = driver.find_element(By.XPATH, "//tr[td[@class='phone' and text()='+61410999999']]")
        Select(row.find_element(By.NAME, "status")).select_by_value("reached")
        note = row.find_element(By.NAME, "note")
        note.clear()
        note.send_keys("reached by phone; isolating <until 27/05>")
        row.find_element(By.CSS_SELECTOR, "button").click()
        wait_for(lambda: "by ana.tracer" in driver.page_source, "the saved status")
        row = driver.find_element(By.XPATH, "//tr[td[@class='phone' and text()='+61410999999']]")
        if "status-reached" not in row.get_attribute("class"):
            fail("the contact is not marked reached")
        if row.find_element(By.NAME, "note").get_attribute("value") != \
                "reached by phone; isolating <until 27/05>":
            fail("the note did not come back as typed")
        shot("5-contact-reached")

        driver.find_element(By.LINK_TEXT, "Download CSV").click()
        csv_path = os.path.join(downloads, "contacts.csv")
        wait_for(lambda: os.path.exists(csv_path) and not glob.glob(downloads + "/*.crdownload"),
                 "the CSV download")
        csv = open(csv_path, encoding="utf-8").read()
        if '"\'+61410999999"' not in csv or '"reached"' not in csv \
                or "isolating <until 27/05>" not in csv:
            fail("the CSV lacks the contact, its status or its note:\n" + csv)

        driver.find_element(By.LINK_TEXT, "Reports").click()
        wait_for(lambda: "/reports" in driver.current_url, "the reports page")
        shot("6-reports")
        driver.find_element(By.CSS_SELECTOR, "table a[href^='/reports/']").click()
        wait_for(lambda: "Matched (2)" in driver.page_source, "a report's page")
        shot("7-report")
        driver.find_element(By.LINK_TEXT, "Activity").click()
        wait_for(lambda: "<svg" in driver.page_source, "the activity chart")
        if "2020-05-" not in driver.page_source and "20" + time.strftime("%y") not in \
                driver.page_source:
            fail("the activity page shows no day")
        today = time.strftime("%Y-%m-%d", time.gmtime())
        if not re.search(r"<td>%s</td><td>1</td><td>\d+</td><td>1</td>" % today,
                         driver.page_source):
            fail("the activity table does not show today's upload and code")
        shot("8-activity")
        driver.find_element(By.LINK_TEXT, "Staff").click()
        wait_for(lambda: "ana.tracer" in driver.page_source and "/staff" in driver.current_url,
                 "the staff page")
        shot("9-staff")

        driver.find_element(By.CSS_SELECTOR, "form.logout button").click()
        wait_for(lambda: driver.current_url.endswith("/login"), "the login page after logout")
        # The old cookie, replayed, no longer opens the console.
        driver.add_cookie({"name": "bt_session", "value": session["value"], "path": "/",
                           "secure": True, "httpOnly": True, "sameSite": "Strict"})
        driver.get(base + "/contacts")
        if not driver.current_url.endswith("/login"):
            fail("a cookie replayed after logout still works")
        if not os.path.exists(os.path.join(state, "contact_status.txt")):
            fail("the status was not kept in contact_status.txt")
        audit = open(os.path.join(state, "audit.log"), encoding="utf-8").read()
        for event in ("console_login", "upload_code_issued", "upload_code_redeemed",
                      "console_view_contacts", "console_contact_status",
                      "console_export_contacts", "console_logout"):
            if event not in audit:
                fail("audit.log has no " + event)
        if not re.search(r"upload_code_issued user=(\+|%2B)61410777777 by=ana\.tracer", audit):
            fail("audit.log does not say who issued the code")
        bare = code.replace("-", "")
        for name in ("audit.log", "upload-codes.txt"):
            text = open(os.path.join(state, name), encoding="utf-8").read()
            if code in text or bare in text:
                fail("the upload code is in " + name)
        server_log = open(log_path, encoding="utf-8").read()
        if code in server_log or bare in server_log:
            fail("the upload code is in the server's log")
    finally:
        if driver is not None:
            driver.quit()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server_err.close()
    if args.docs:
        os.makedirs(args.docs, exist_ok=True)
        for png in sorted(glob.glob(os.path.join(shots, "*.png"))):
            shutil.copy(png, args.docs)
    print("ok: %d screenshots in %s" % (len(os.listdir(shots)), shots))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
