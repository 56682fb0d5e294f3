/* Placeholder: the rsa family is being written. */
#include "mech/mech.h"

const struct mech_family mech_rsa_family = {
    .name = "rsa",
};
