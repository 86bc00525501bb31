# Included by llama.cpp's own CMakeLists right after its project() call when llama-cpp-python is built with
#   CMAKE_ARGS="... -DCMAKE_PROJECT_llama.cpp_INCLUDE=/path/to/this/file"
# llama-cpp-python forces the cache variable LLAMA_BUILD_COMMON on, yet the Python package never loads
# libllama-common (nor cpp-httplib, which only common uses). A normal variable shadows the cache entry in
# llama.cpp's directory, so neither is compiled: about a quarter of the build, for nothing tierwise uses.
set(LLAMA_BUILD_COMMON OFF)
# With a llama-cpp-python whose llama.cpp project is named differently, CMake ignores the variable (a warning):
# the build then simply includes common again.
