#include "sim/server.h"
