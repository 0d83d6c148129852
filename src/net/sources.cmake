target_sources(bluetrace_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/client_controller.cpp
  ${CMAKE_CURRENT_LIST_DIR}/client_session.cpp
  ${CMAKE_CURRENT_LIST_DIR}/certificate.cpp
  ${CMAKE_CURRENT_LIST_DIR}/certificate_validity.cpp
  ${CMAKE_CURRENT_LIST_DIR}/client_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openssl_helpers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server_daemon.cpp
  ${CMAKE_CURRENT_LIST_DIR}/listener.cpp
  ${CMAKE_CURRENT_LIST_DIR}/accept_backoff.cpp
  ${CMAKE_CURRENT_LIST_DIR}/descriptor_budget.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ops_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server_session.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tls_socket.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tls_context.cpp
  ${CMAKE_CURRENT_LIST_DIR}/beacon_endpoint.cpp
)
