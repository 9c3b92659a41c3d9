#include "conf/yamltree.h"
