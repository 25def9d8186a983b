import Autograd
print("autograd-bench")
