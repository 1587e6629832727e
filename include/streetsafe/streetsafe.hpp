#pragma once

#include "streetsafe/context.hpp"
#include "streetsafe/crs.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/grid.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/kde.hpp"
#include "streetsafe/time.hpp"
#include "streetsafe/version.hpp"
