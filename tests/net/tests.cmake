bluetrace_test(net certificate)
