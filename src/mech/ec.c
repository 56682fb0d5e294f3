/* Placeholder: the ec family is being written. */
#include "mech/mech.h"

const struct mech_family mech_ec_family = {
    .name = "ec",
};
