bluetrace_test(protocol tempid)
bluetrace_test(protocol timestamp)
bluetrace_test(protocol phone)
bluetrace_test(protocol text_lines)
