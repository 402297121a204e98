// The N-API runtime functions that node-addon-api's inline error paths refer to from
// core/request.cc, defined to abort: fuzz_request links no Node, and napi_stub.h's two working
// stand-ins always succeed, so none of these is ever called; if one is, the crash says so.
// This file deliberately does not include node_api.h: the definitions are extern "C" names
// only (no mangling), and their real signatures do not matter since they never return.
// The addon builds leave native/fuzz/ out, and these names must never reach the addon: the
// NDS_FUZZ_TARGET guard keeps this file empty in any other build all the same.
#ifdef NDS_FUZZ_TARGET
#include <cstdio>
#include <cstdlib>

#define NDS_ABORT_STUB(name)                                                    \
  extern "C" void name() {                                                      \
    std::fprintf(stderr, "fuzz: N-API stub %s called (not modelled)\n", #name); \
    std::abort();                                                               \
  }

NDS_ABORT_STUB(napi_close_escapable_handle_scope)
NDS_ABORT_STUB(napi_create_error)
NDS_ABORT_STUB(napi_create_object)
NDS_ABORT_STUB(napi_create_reference)
NDS_ABORT_STUB(napi_create_string_utf8)
NDS_ABORT_STUB(napi_create_type_error)
NDS_ABORT_STUB(napi_define_properties)
NDS_ABORT_STUB(napi_delete_reference)
NDS_ABORT_STUB(napi_escape_handle)
NDS_ABORT_STUB(napi_fatal_error)
NDS_ABORT_STUB(napi_get_and_clear_last_exception)
NDS_ABORT_STUB(napi_get_last_error_info)
NDS_ABORT_STUB(napi_get_named_property)
NDS_ABORT_STUB(napi_get_reference_value)
NDS_ABORT_STUB(napi_get_value_string_utf8)
NDS_ABORT_STUB(napi_is_exception_pending)
NDS_ABORT_STUB(napi_open_escapable_handle_scope)
#endif  // NDS_FUZZ_TARGET
