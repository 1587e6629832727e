#pragma once

#include "streetsafe/areas.hpp"
#include "streetsafe/context.hpp"
#include "streetsafe/crs.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/grid.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/io.hpp"
#include "streetsafe/kde.hpp"
#include "streetsafe/time.hpp"
#include "streetsafe/version.hpp"
