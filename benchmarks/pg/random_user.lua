-- wrk script: GET /user/<random id in 1..10000> (bench_users from bench_drivers.py)
math.randomseed(42)
request = function()
  return wrk.format("GET", "/user/" .. math.random(1, 10000))
end
