#include "arc/sigv4.h"
