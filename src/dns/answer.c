#include "dns/answer.h"
