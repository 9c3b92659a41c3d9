#include "arc/creds.h"
