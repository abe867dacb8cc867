#ifndef SEXTANT_CZEROMQ_SHIM_H
#define SEXTANT_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
