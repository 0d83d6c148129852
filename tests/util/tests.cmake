bluetrace_test(util status)
bluetrace_test(util random)
bluetrace_test(util secret)
