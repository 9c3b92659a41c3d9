#include "sim/api.h"
