/* Placeholder: the kw family is being written. */
#include "mech/mech.h"

const struct mech_family mech_kw_family = {
    .name = "kw",
};
