#include "sim/simconf.h"
