#include "dns/wire.h"
