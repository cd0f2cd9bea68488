/* catalogue.h -- the profiles and deviations explained to a person (CLI). */
#ifndef MC_CATALOGUE_H
#define MC_CATALOGUE_H

#include <stdio.h>

#include "mockcloud.h"

/* `mockcloud profiles`: every profile with its deviations, then the catalogue. */
int mc_cli_profiles(const char *profiles_dir, FILE *out);
/* `mockcloud profiles --markdown`: profiles/README.md. */
int mc_cli_markdown(const char *profiles_dir, FILE *out);
/* `mockcloud explain NAME|ID`: a profile or a catalogue deviation in full. */
int mc_cli_explain(const char *profiles_dir, const char *what, FILE *out);
/* `mockcloud knobs`: NAME TYPE DEFAULT DOC, tab-separated (docs check). */
void mc_cli_knobs(FILE *out);

#endif
