/* Placeholder: the hybrid family is being written. */
#include "mech/mech.h"

const struct mech_family mech_hybrid_family = {
    .name = "hybrid",
};
