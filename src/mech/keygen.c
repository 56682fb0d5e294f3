/* Placeholder: the keygen family is being written. */
#include "mech/mech.h"

const struct mech_family mech_keygen_family = {
    .name = "keygen",
};
