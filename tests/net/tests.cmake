bluetrace_test(net certificate)
bluetrace_test(net tls_context)
