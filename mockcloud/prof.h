/* prof.h -- per-request CPU time, for finding what makes slow requests slow.
 *
 * Off unless MOCKCLOUD_PROF is set (to a file name, or "1" for stderr): then
 * every request dispatch and every server timer is timed with the thread's
 * CPU clock (not the wall clock, which a loaded machine stretches), and at
 * exit a report lists the count, the quantiles, a log2 histogram and the 20
 * slowest with their method and URI. One line marks a span:
 *
 *     MC_PROF_SCOPE(method, label);   // ends when the enclosing block ends
 */
#ifndef MC_PROF_H
#define MC_PROF_H

#include <stdbool.h>
#include <stdint.h>

typedef struct mc_prof_span {
    uint64_t t0;              /* thread CPU ns at the start; 0 = not timed */
    int method;
    char label[96];
} mc_prof_span;

extern int mc_prof_on;        /* -1 = not read yet, 0 = off, 1 = on */

mc_prof_span mc_prof_begin(int method, const char *label);
void mc_prof_end(mc_prof_span *s);
/* The report so far (also written at exit). */
void mc_prof_report(void);

#define MC_PROF_SCOPE(method, label)                                                             \
    mc_prof_span mc_prof_span_ __attribute__((cleanup(mc_prof_end))) =                           \
        mc_prof_on != 0 ? mc_prof_begin((method), (label)) : (mc_prof_span){0, 0, {0}}

#endif
