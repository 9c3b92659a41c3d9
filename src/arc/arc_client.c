#include "arc/arc_client.h"
