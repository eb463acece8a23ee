#include "tap.h"
int main(void) { tap_skip("not written yet", "placeholder"); return tap_done(); }
