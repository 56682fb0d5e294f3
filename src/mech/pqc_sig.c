/* Placeholder: the pqc_sig family is being written. */
#include "mech/mech.h"

const struct mech_family mech_pqc_sig_family = {
    .name = "pqc_sig",
};
