#include "mirror/mirror.h"
