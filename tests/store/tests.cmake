bluetrace_test(store file_system)
bluetrace_test(store tempid_index)
bluetrace_test(store fault_injection_fs)
bluetrace_test(store password_hash)
