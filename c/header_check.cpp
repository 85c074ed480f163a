// The header compiles as C++ (c++ -Wall -Wextra -Werror -pedantic) and its
// declarations are usable from C++ with C linkage.
#include "tardy.h"

static_assert(TARDY_OK == 0, "TARDY_OK is 0");
static_assert(sizeof(tardy_task_id) == 8, "tardy_task_id is uint64_t");
static_assert(TARDY_MISSED_TICK_BEHAVIOR_BURST == 0 && TARDY_MISSED_TICK_BEHAVIOR_DELAY == 1 &&
                  TARDY_MISSED_TICK_BEHAVIOR_SKIP == 2,
              "the policies keep their values");

int main() {
    tardy_scheduler *s = nullptr;
    if (tardy_new(nullptr, nullptr, &s) != TARDY_OK) {
        return 1;
    }
    tardy_status st = tardy_add_queue(s, "q", 0);
    if (st == TARDY_OK) {
        // A C++ enumerator passes as the C enum type.
        st = tardy_schedule_periodic_after(s, "q", 1, nullptr, 1000, 1000,
                                           TARDY_MISSED_TICK_BEHAVIOR_SKIP, nullptr);
    }
    tardy_free(s);
    return st == TARDY_OK && tardy_status_str(TARDY_ERR_PANIC) != nullptr ? 0 : 1;
}
