// Everything is in include/clinux.h (static inline); SwiftPM wants one source file.
#include "clinux.h"
