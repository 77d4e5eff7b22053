# fl_target_warnings(target): the project's warning set, applied to our own targets only.
function(fl_target_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  endif()
endfunction()

# fl_library(name SOURCES...): a module library fl_<name> with alias fl::<name> and the public include dir.
function(fl_library name)
  file(GLOB public_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/frameloom/${name}/*.h)
  add_library(fl_${name} STATIC ${ARGN} ${public_headers})
  set_target_properties(fl_${name} PROPERTIES LINKER_LANGUAGE CXX POSITION_INDEPENDENT_CODE ON)
  add_library(fl::${name} ALIAS fl_${name})
  target_include_directories(fl_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include PRIVATE ${PROJECT_SOURCE_DIR}/src)
  fl_target_warnings(fl_${name})
endfunction()
