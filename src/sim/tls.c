#include "sim/tls.h"
