-- wrk script for the mixed searches of scripts/bench/catalog-listing.sh: GET each path of the file
-- named by $PATHS in turn (each wrk thread starts at another point of the list).
local paths = {}
for line in io.lines(os.getenv("PATHS")) do
  paths[#paths + 1] = line
end

local counter = 0
function setup(thread)
  thread:set("start", counter * 500)
  counter = counter + 1
end

local i = nil
function request()
  i = ((i or start or 0) % #paths) + 1
  return wrk.format("GET", paths[i])
end
