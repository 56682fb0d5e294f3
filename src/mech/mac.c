/* Placeholder: the mac family is being written. */
#include "mech/mech.h"

const struct mech_family mech_mac_family = {
    .name = "mac",
};
