/* Placeholder: the aead family is being written. */
#include "mech/mech.h"

const struct mech_family mech_aead_family = {
    .name = "aead",
};
