# The fuzz targets in the test suite (label `fuzz`). They are a project of
# their own (test/fuzz/CMakeLists.txt), built by clang with libFuzzer and
# sanitizers into <build>/fuzz by the test fuzz_build, never configured
# with this build's compiler. Each fuzz_<target> then runs its target over
# the seed corpus and for 15 s more with a fixed seed (run.sh --smoke); a
# crash, leak or timeout fails it. Long runs: test/fuzz/run.sh TARGET.
set(HLM_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(HLM_FUZZ_BINARY_DIR ${PROJECT_BINARY_DIR}/fuzz)

add_test(NAME fuzz_build
  COMMAND ${CMAKE_COMMAND} -E env CC=clang CXX=clang++
          sh ${HLM_FUZZ_DIR}/build.sh ${HLM_FUZZ_BINARY_DIR})
set_tests_properties(fuzz_build PROPERTIES
  LABELS fuzz FIXTURES_SETUP fuzz TIMEOUT 600 SKIP_RETURN_CODE 125)

foreach(target queue_entry ring handler_request handler_result pickle exec_protocol list_manifest)
  add_test(NAME fuzz_${target}
    COMMAND ${CMAKE_COMMAND} -E env HLM_FUZZ_BUILD_DIR=${HLM_FUZZ_BINARY_DIR}
            sh ${HLM_FUZZ_DIR}/run.sh --smoke ${target} 15)
  set_tests_properties(fuzz_${target} PROPERTIES
    LABELS fuzz FIXTURES_REQUIRED fuzz TIMEOUT 120)
endforeach()
