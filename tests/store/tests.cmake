bluetrace_test(store file_system)
bluetrace_test(store fault_injection_fs)
