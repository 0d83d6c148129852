bluetrace_test(protocol tempid)
bluetrace_test(protocol timestamp)
