bluetrace_test(net certificate)
bluetrace_test(net server_transport)
bluetrace_test(net server_hardening)
bluetrace_test(net tls_context)
