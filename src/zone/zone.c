#include "zone/zone.h"
