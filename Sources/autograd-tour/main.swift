import Autograd
print("autograd-tour")
