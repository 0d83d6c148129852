bluetrace_test(service server_config)
bluetrace_test(service rate_limiter)
bluetrace_test(service worker_pool)
