/* Placeholder: the cipher family is being written. */
#include "mech/mech.h"

const struct mech_family mech_cipher_family = {
    .name = "cipher",
};
