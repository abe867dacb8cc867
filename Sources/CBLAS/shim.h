#ifndef SEXTANT_CBLAS_SHIM_H
#define SEXTANT_CBLAS_SHIM_H
// Debian's libopenblas-dev installs cblas.h under the multiarch include directory.
#include <cblas.h>
#endif
