#include "dns/listen.h"
