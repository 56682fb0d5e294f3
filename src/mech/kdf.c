/* Placeholder: the kdf family is being written. */
#include "mech/mech.h"

const struct mech_family mech_kdf_family = {
    .name = "kdf",
};
