# Warning flags shared by every target of the project (INTERFACE target,
# linked PRIVATE so they never leak to consumers of the installed library).
add_library(hlm_warnings INTERFACE)
target_compile_options(hlm_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual -Wconversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
