# The ROS 2 PyPI wheels export include paths of the machine that built them (/opt/python/...).
# CMake refuses imported targets with non-existent include paths, so drop those and point at this
# interpreter's headers instead. On a regular ROS install no path matches and nothing changes.
# Include it after rosidl_generate_interfaces(); omni_ros's test-only interface packages include it too.
find_package(Python3 REQUIRED COMPONENTS Interpreter Development NumPy)
get_property(_omni_dirs DIRECTORY PROPERTY IMPORTED_TARGETS)
foreach(_target IN LISTS _omni_dirs)
  get_target_property(_incs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
  if(_incs AND "${_incs}" MATCHES "/opt/python/")
    list(FILTER _incs EXCLUDE REGEX "^/opt/python/")
    list(APPEND _incs ${Python3_INCLUDE_DIRS} ${Python3_NumPy_INCLUDE_DIRS})
    set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_incs}")
  endif()
endforeach()
