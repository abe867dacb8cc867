#ifndef SEXTANT_CZLIB_SHIM_H
#define SEXTANT_CZLIB_SHIM_H
#include <zlib.h>
#endif
