/* Placeholder: the pqc_kem family is being written. */
#include "mech/mech.h"

const struct mech_family mech_pqc_kem_family = {
    .name = "pqc_kem",
};
