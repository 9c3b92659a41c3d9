#include "dns/table.h"
