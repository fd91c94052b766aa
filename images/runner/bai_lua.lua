-- Lua query-mode driver (images/runner/bai_proc.py ReplDriver, cmdPipe):
-- one persistent lua process; each line "TOKEN FILE" read from
-- /dev/fd/$BAI_CMD_FD runs FILE with the shared globals, so state persists
-- between cells. Like the lua REPL, a cell that is an expression has its
-- values printed. stdin stays free for user code (io.read()).
local cmds = assert(io.open("/dev/fd/" .. os.getenv("BAI_CMD_FD"), "r"))
local cells = 0

local function run_cell(path)
  local f = assert(io.open(path, "r"))
  local src = f:read("a")
  f:close()
  cells = cells + 1
  local name = "=cell-" .. cells
  local chunk = load("return " .. src, name, "t")
  local is_expr = chunk ~= nil
  if not chunk then
    local err
    chunk, err = load(src, name, "t")
    if not chunk then
      io.stderr:write(err, "\n")
      return 1
    end
  end
  local res = table.pack(xpcall(chunk, debug.traceback))
  if not res[1] then
    io.stderr:write(tostring(res[2]), "\n")
    return 1
  end
  if is_expr and res.n > 1 then
    local parts = {}
    for i = 2, res.n do parts[#parts + 1] = tostring(res[i]) end
    io.stdout:write(table.concat(parts, "\t"), "\n")
  end
  return 0
end

for line in cmds:lines() do
  local token, path = line:match("^(%S+) (.+)$")
  if token then
    local rc = run_cell(path)
    io.stdout:write(token, rc, "\n")
    io.stdout:flush()
    io.stderr:write(token)
    io.stderr:flush()
  end
end
